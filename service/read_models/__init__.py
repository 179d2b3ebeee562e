"""The read-model host of a process, and how read models' positions cross processes."""
