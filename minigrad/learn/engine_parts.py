TITLE = "engine_parts"
GRADER = "x"
OPTIONAL = False
EXERCISES = []
