DROP TABLE auth_codes;
