DROP TABLE admin_units;
DROP TABLE admin_levels;
