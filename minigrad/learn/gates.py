TITLE = "gates"
GRADER = "x"
OPTIONAL = False
EXERCISES = []
