// A shopping cart, used by the copilot-lsp demo.

class Cart {
  constructor() {
    this.items = [];
  }

  add(name, price, quantity = 1) {
    this.items.push({ name, price, quantity });
  }

  total() {
    return this.items.reduce((sum, item) => sum + item.price * item.quantity, 0);
  }

  count() {
    return this.items.reduce((sum, item) => sum + item.quantity, 0);
  }
}

module.exports = { Cart };
