"""``dimo predict``: labels and probabilities of a trained model for images."""

from __future__ import annotations

from dimo.cli import common

HELP = "label images with a model directory written by dimo train"
NEEDS_DATASET = False


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, help="a model directory written by dimo train")
    parser.add_argument("--images", required=True,
                        help="an image, a folder of images, or a folder of class folders (then its accuracy)")
    parser.add_argument("--top", type=int, default=3, help="classes listed per image in the table")


def run(args) -> dict:
    import numpy as np

    from dimo.final import images as image_files
    from dimo.final import model as model_dir

    model = model_dir.load(args.model)
    found = image_files.find_images(args.images)
    probabilities = model.predict(image_files.read_images(found, model.image_size))
    predicted = probabilities.argmax(-1)
    rows = [{"file": str(path), "label": model.class_names[k], "probability": float(p[k]),
             "probabilities": {name: float(q) for name, q in zip(model.class_names, p)}}
            for (path, _), k, p in zip(found, predicted, probabilities)]
    result = {"model": str(args.model), "images": len(rows), "predictions": rows}
    labels, unmatched = image_files.folder_labels(found, model.class_names)
    if labels is not None:
        result["accuracy"] = float(np.mean(predicted == labels))
    elif unmatched:
        import sys

        result["note"] = (f"no accuracy: folders {', '.join(unmatched[:5])} are named like none of the model's "
                          f"classes ({', '.join(model.class_names[:5])}, ...)")
        print(f"note: {result['note']}", file=sys.stderr)
    if not args.json:
        width = max(len(r["file"]) for r in rows)
        for row, p in zip(rows, probabilities):
            top = np.argsort(-p)[:args.top]
            print(f"{row['file']:<{width}}  " + "  ".join(f"{model.class_names[k]} {p[k]:.3f}" for k in top))
        if labels is not None:
            print(common.table([("accuracy", f"{result['accuracy']:.4f} on {len(rows)} images in class folders")]))
    return result
