// Checkout for the demo cart: totals with tax.
const { Cart } = require("./cart");

function checkout(items, taxRate) {
  const cart = new Cart();
  for (const item of items) {
    cart.add(item.name, item.price, item.quantity);
  }
  return cart.total() * (1 + taxRate);
}

module.exports = { checkout };
