"""The generated documents of ``docs/``: each is rendered from the code it describes, so it cannot drift.

``python -m docgen`` writes them; ``python -m docgen --check`` (and ``tests/test_docgen.py``) fails when a
committed file differs from what the code gives. One module per document; ``docgen.documents`` lists them.
"""
