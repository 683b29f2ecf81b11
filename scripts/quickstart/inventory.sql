-- A small inventory database for the quickstart: customers, products and
-- orders (with a foreign key), with numeric, timestamptz, jsonb and bytea
-- columns.
CREATE TABLE customers (
    id          serial PRIMARY KEY,
    first_name  varchar(255) NOT NULL,
    last_name   varchar(255) NOT NULL,
    email       varchar(255) NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE customers_id_seq RESTART WITH 1001;

CREATE TABLE products (
    id          serial PRIMARY KEY,
    name        varchar(255) NOT NULL,
    description text,
    weight      double precision,
    price       numeric(10,2) NOT NULL,
    attributes  jsonb,
    thumbnail   bytea
);
ALTER SEQUENCE products_id_seq RESTART WITH 101;

CREATE TABLE orders (
    id          serial PRIMARY KEY,
    order_date  date NOT NULL,
    purchaser   integer NOT NULL REFERENCES customers (id),
    quantity    integer NOT NULL,
    product_id  integer NOT NULL REFERENCES products (id),
    placed_at   timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE orders_id_seq RESTART WITH 10001;

INSERT INTO customers (first_name, last_name, email) VALUES
    ('Sally', 'Thomas', 'sally.thomas@acme.com'),
    ('George', 'Bailey', 'gbailey@foobar.com'),
    ('Edward', 'Walker', 'ed@walker.com'),
    ('Anne', 'Kretchmar', 'annek@noanswer.org');

INSERT INTO products (name, description, weight, price, attributes, thumbnail) VALUES
    ('scooter', 'Small 2-wheel scooter', 3.14, 49.99, '{"color": "red", "wheels": 2}', '\x89504e47'),
    ('car battery', '12V car battery', 8.1, 89.00, '{"volts": 12}', NULL),
    ('12-pack drill bits', '12-pack of drill bits with sizes ranging from #40 to #3', 0.8, 12.50, '{"pieces": 12}', NULL),
    ('hammer', '12oz carpenter''s hammer', 0.75, 17.25, '{"weight_oz": 12}', '\xdeadbeef');

INSERT INTO orders (order_date, purchaser, quantity, product_id) VALUES
    ('2016-01-16', 1001, 1, 102),
    ('2016-01-17', 1002, 2, 105 - 4),
    ('2016-02-19', 1002, 2, 106 - 4),
    ('2016-02-21', 1003, 1, 107 - 4);
