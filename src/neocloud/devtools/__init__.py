"""Development tools (test and benchmark support); the product never imports them."""
