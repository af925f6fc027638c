TITLE = "compiler_pass"
GRADER = "x"
OPTIONAL = False
EXERCISES = []
