// The platform sets BASE_PATH to the service prefix ("/storefront") for the
// build and the server: pages, /_next assets and redirects all live under it.
const basePath = process.env.BASE_PATH || "";

module.exports = {
  basePath,
  poweredByHeader: false,
  async redirects() {
    // basePath applies to both sides: /storefront/old -> /storefront
    return [{ source: "/old", destination: "/", permanent: false }];
  },
};
