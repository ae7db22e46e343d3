"""A world kept outside the runner's process: a router and a platform backed by JSON files,
and gates that pass or fail by a file, so a real ``shiftgate`` subprocess can be killed at
any point and another one (or the test) can look at what it left."""
