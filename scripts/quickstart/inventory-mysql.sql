-- The quickstart's inventory database for MySQL/MariaDB: customers,
-- products and orders (with a foreign key), with decimal, timestamp, json
-- and blob columns.
CREATE TABLE customers (
    id          INT AUTO_INCREMENT PRIMARY KEY,
    first_name  VARCHAR(255) NOT NULL,
    last_name   VARCHAR(255) NOT NULL,
    email       VARCHAR(255) NOT NULL UNIQUE,
    created_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) AUTO_INCREMENT = 1001;

CREATE TABLE products (
    id          INT AUTO_INCREMENT PRIMARY KEY,
    name        VARCHAR(255) NOT NULL,
    description TEXT,
    weight      DOUBLE,
    price       DECIMAL(10,2) NOT NULL,
    attributes  JSON,
    thumbnail   BLOB
) AUTO_INCREMENT = 101;

CREATE TABLE orders (
    id          INT AUTO_INCREMENT PRIMARY KEY,
    order_date  DATE NOT NULL,
    purchaser   INT NOT NULL,
    quantity    INT NOT NULL,
    product_id  INT NOT NULL,
    placed_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (purchaser) REFERENCES customers (id),
    FOREIGN KEY (product_id) REFERENCES products (id)
) AUTO_INCREMENT = 10001;

INSERT INTO customers (first_name, last_name, email) VALUES
    ('Sally', 'Thomas', 'sally.thomas@acme.com'),
    ('George', 'Bailey', 'gbailey@foobar.com'),
    ('Edward', 'Walker', 'ed@walker.com'),
    ('Anne', 'Kretchmar', 'annek@noanswer.org');

INSERT INTO products (name, description, weight, price, attributes, thumbnail) VALUES
    ('scooter', 'Small 2-wheel scooter', 3.14, 49.99, '{"color": "red", "wheels": 2}', X'89504e47'),
    ('car battery', '12V car battery', 8.1, 89.00, '{"volts": 12}', NULL),
    ('12-pack drill bits', '12-pack of drill bits with sizes ranging from #40 to #3', 0.8, 12.50, '{"pieces": 12}', NULL),
    ('hammer', '12oz carpenter''s hammer', 0.75, 17.25, '{"weight_oz": 12}', X'deadbeef');

INSERT INTO orders (order_date, purchaser, quantity, product_id) VALUES
    ('2016-01-16', 1001, 1, 102),
    ('2016-01-17', 1002, 2, 101),
    ('2016-02-19', 1002, 2, 102),
    ('2016-02-21', 1003, 1, 103);
