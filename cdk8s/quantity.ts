/** Kubernetes resource quantities (the subset the Recommender schema accepts) as numbers. */

const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** The value of a quantity such as `256Mi`, `1.5G` or `1024`, in base units (bytes for memory). */
export function quantityValue(quantity: string | number, field = 'quantity'): number {
  if (typeof quantity === 'number') return quantity;
  const match = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!match) throw new Error(`${field}: Invalid value: "${quantity}": not a resource quantity`);
  return Number(match[1]) * SUFFIX[match[2] ?? '']!;
}
