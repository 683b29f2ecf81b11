-- The changes the MySQL quickstart makes while sluice runs.
INSERT INTO customers (first_name, last_name, email) VALUES ('Kenneth', 'Anderson', 'kander@acme.com');
UPDATE customers SET email = 'sally@thomas.example' WHERE id = 1001;
UPDATE products SET price = 44.99, attributes = JSON_SET(attributes, '$.sale', true) WHERE id = 101;
-- A primary-key change: a delete of the old key and a create of the new one.
UPDATE customers SET id = 2004 WHERE id = 1004;
DELETE FROM orders WHERE id = 10004;
