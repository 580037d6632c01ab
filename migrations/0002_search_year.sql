-- A search's year filter as its own column (it was folded into the query text), so a past
-- search can be run again or paged exactly as it was typed.
ALTER TABLE search_history ADD COLUMN year INTEGER CHECK (year BETWEEN 1870 AND 2100);
