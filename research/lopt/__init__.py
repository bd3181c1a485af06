"""The learned optimizer's research: its protocol (PROTOCOL.md), the System choice
(``meta_validate``), the leave-one-dataset-out study (``leave_one_out``) and its statistics
(``summary``)."""

# H in inner steps for every config (PROTOCOL.md, Changes, 2026-12-03): a config without persistent
# states was meta-trained on K = 10-step truncations, and a bar at 10 and 20 steps judges nothing.
H_STEPS = 200
