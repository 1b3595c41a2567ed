"""The source file functions-framework loads (main.py); kept apart so that its folder, which
functions-framework adds to sys.path, holds nothing else."""
