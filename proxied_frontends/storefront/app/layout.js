import { basePath } from "../lib/platform";

export const metadata = { title: "Joule storefront" };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "sans-serif", maxWidth: "40rem", margin: "2rem auto" }}>
        <header>
          <img src={`${basePath}/logo.svg`} alt="Joule storefront" width="160" height="40" />
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
