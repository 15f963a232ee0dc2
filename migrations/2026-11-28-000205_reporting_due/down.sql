DROP TABLE reporting_settings;
