"""Raw Enterprise engagement tables (group ``enterprise``, schema ``raw``): summaries and per-user activity."""
