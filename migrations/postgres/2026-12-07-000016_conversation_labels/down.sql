ALTER TABLE conversations DROP COLUMN labels;
