import Link from "next/link";
import { notFound } from "next/navigation";
import { getProduct } from "../../../lib/platform";

export const dynamic = "force-dynamic";

export default async function ProductPage({ params }) {
  const { id } = await params;
  // Only a positive integer can be a product id: anything else is a 404.
  if (!/^[1-9][0-9]{0,17}$/.test(id)) notFound();
  const product = await getProduct(id);
  if (product === null) notFound();
  return (
    <article id="product">
      <h1>{product.title}</h1>
      <p className="sku">SKU {product.sku}</p>
      {product.description ? <p className="description">{product.description}</p> : null}
      <p className="price">Price {product.price}</p>
      <p className="stock">{product.stock > 0 ? `${product.stock} in stock` : "Out of stock"}</p>
      <Link href="/">All products</Link>
    </article>
  );
}
