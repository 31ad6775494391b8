"""The facts layer (schema ``facts``): the price book, unified usage and cost, exact allocation and the
reconciliation of figures that disagree. Date-partitioned (every organization per day), rebuilt from the
raw tables in SQL, every number traceable to the raw pulls that produced it."""
