DROP TABLE denominators;
