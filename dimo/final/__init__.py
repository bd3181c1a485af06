"""Final training: from a cell and a recipe to a network a user keeps, and predictions with it."""
