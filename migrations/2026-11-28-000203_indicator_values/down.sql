DROP TABLE indicator_values;
