/** A price in cents with its currency. */
export interface Price {
  cents: number;
  currency: string;
}

/** Apply a percentage discount, rounding to whole cents. */
export function discount(price: Price, percent: number): Price {
  const cents = Math.round(price.cents * (1 - percent / 100));
  return { cents, currency: price.currency };
}

export const formatPrice = (price: Price): string =>
  `${(price.cents / 100).toFixed(2)} ${price.currency}`;
