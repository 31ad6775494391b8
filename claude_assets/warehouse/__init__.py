"""The warehouse: the table contract (``contract``), window writes (``writes``) and history tables
(``history``)."""
