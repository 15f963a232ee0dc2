DROP TABLE activation_codes;
