import { cookies } from "next/headers";

export const dynamic = "force-dynamic";

// Counts visits in a cookie. The app sets it on "/"; the platform's proxy
// scopes it to the prefix (Path=/storefront).
export async function GET() {
  const jar = await cookies();
  const previous = Number.parseInt(jar.get("visits")?.value ?? "0", 10);
  const visits = (Number.isSafeInteger(previous) && previous >= 0 ? previous : 0) + 1;
  jar.set("visits", String(visits), { httpOnly: true, sameSite: "lax" });
  return Response.json({ visits });
}
