TITLE = "through_time"
GRADER = "x"
OPTIONAL = False
EXERCISES = []
