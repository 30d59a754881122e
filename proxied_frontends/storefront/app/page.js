import Link from "next/link";
import { listProducts } from "../lib/platform";

// Read live data on every request: the catalogue changes under the page.
export const dynamic = "force-dynamic";

export default async function Home() {
  const products = await listProducts();
  return (
    <>
      <h1>Products</h1>
      {products.length === 0 ? (
        <p id="empty">No products yet.</p>
      ) : (
        <ul id="products">
          {products.map((product) => (
            <li key={product.id}>
              <Link href={`/products/${product.id}`}>{product.title}</Link>{" "}
              <span className="price">{product.price}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
