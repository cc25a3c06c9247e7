import { discount, formatPrice, Price } from "./pricing";

export function orderSummary(prices: Price[], percent: number): string[] {
  return prices.map((price) => formatPrice(discount(price, percent)));
}
