"""The raw layer: one package per source family (``console``, ``enterprise_engagement``, ``enterprise_reports``) and the machinery they share (``runner``, ``staging``, ``columns``)."""
