/**
 * Values that are sometimes ready now and sometimes later. The recommendation path is synchronous while
 * its candidate lists come from memory, so the answer is written in the same tick as the request (node
 * then sends headers and body in one write, and no promise is allocated); it turns async only when Redis
 * is asked. Code on that path chains with `andThen` below rather than `await`, to keep it so.
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * `f(x)`, after `x` resolves if it is a promise: synchronous code stays synchronous. (Not named `then`:
 * a module exporting `then` is a thenable, and `await import()` of it would call it.)
 */
export function andThen<T, U>(x: MaybePromise<T>, f: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return x instanceof Promise ? x.then(f) : f(x);
}
