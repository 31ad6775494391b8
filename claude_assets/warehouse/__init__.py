"""The warehouse: the table contract (``contract``), window writes (``writes``) and history tables
(``history``), and the check that a run can write it before it asks the API for anything (``preflight``)."""
