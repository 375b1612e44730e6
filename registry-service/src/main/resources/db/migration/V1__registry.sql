CREATE TABLE IF NOT EXISTS placeholder (id int);
