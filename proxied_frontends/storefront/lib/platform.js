// Server-side calls to other services, through the platform's own URL.
// The platform sets JOULE_URL for its frontends (e.g. http://127.0.0.1:8000);
// /products/products reaches the products service as any client would.
const PLATFORM_URL = (process.env.JOULE_URL || "http://127.0.0.1:8000").replace(/\/+$/, "");

export const basePath = process.env.BASE_PATH || "";

// Return the JSON answer of GET <path> on the platform, or null when its
// status is one of `missing` (the thing asked for does not exist).
export async function platformGet(path, missing = [404]) {
  const response = await fetch(PLATFORM_URL + path, {
    cache: "no-store",
    headers: { accept: "application/json" },
  });
  if (missing.includes(response.status)) return null;
  if (!response.ok) {
    throw new Error(`GET ${path} through the platform answered ${response.status}`);
  }
  return response.json();
}

export async function listProducts(limit = 50) {
  return platformGet(`/products/products?limit=${limit}&orderby.id=asc`);
}

export async function getProduct(id) {
  // 400: an id the database cannot hold (too large) names no product either.
  return platformGet(`/products/products/${id}`, [400, 404]);
}
