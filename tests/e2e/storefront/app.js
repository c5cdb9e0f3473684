// A minimal storefront for the browser tests: it keeps its tokens in localStorage and talks to the API
// (another origin, given as ?api=...) with fetch only. Not a product.
"use strict";

const API = new URLSearchParams(location.search).get("api");
const store = {
  get: (k) => localStorage.getItem(k),
  set: (k, v) => (v === null ? localStorage.removeItem(k) : localStorage.setItem(k, v)),
};
const $ = (id) => document.getElementById(id);

function say(text) {
  $("status").textContent = text;
}

async function call(method, path, { body, headers = {} } = {}) {
  const h = { ...headers };
  const access = store.get("access");
  if (access) h.Authorization = `Bearer ${access}`;
  if (body !== undefined) h["Content-Type"] = "application/json";
  const response = await fetch(API + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, data: text ? JSON.parse(text) : null };
}

function cartHeaders() {
  const token = store.get("cartToken");
  return !store.get("access") && token ? { "X-Cart-Token": token } : {};
}

function orderHeaders() {
  const token = store.get("orderToken");
  return !store.get("access") && token ? { "X-Order-Token": token } : {};
}

// --- catalog ---------------------------------------------------------------------------------

let current = null;

async function loadProducts() {
  const { data } = await call("GET", "/api/catalog/products/?page_size=20&ordering=name");
  const list = $("products");
  list.replaceChildren();
  for (const p of data.results) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = "#";
    a.dataset.slug = p.slug;
    a.textContent = `${p.name} — ${p.price} ${p.currency}`;
    a.addEventListener("click", (e) => { e.preventDefault(); openProduct(p.slug); });
    li.append(a);
    list.append(li);
  }
  $("products").dataset.loaded = "true";
}

async function openProduct(slug) {
  const { data } = await call("GET", `/api/catalog/products/${slug}/`);
  current = data;
  $("product-name").textContent = data.name;
  $("product-price").textContent = data.price;
  $("product-stock").textContent = data.stock;
  const select = $("variant");
  select.replaceChildren();
  for (const v of data.variants || []) {
    const option = document.createElement("option");
    option.value = v.id;
    option.textContent = v.name;
    select.append(option);
  }
  select.hidden = !(data.variants || []).length;
  $("product").hidden = false;
  say(`Viewing ${data.name}`);
}

// --- cart ------------------------------------------------------------------------------------

async function addToCart() {
  const body = { product: current.id, quantity: 1 };
  if (!$("variant").hidden) body.variant = Number($("variant").value);
  const res = await call("POST", "/api/cart/items/", { body, headers: cartHeaders() });
  if (res.status !== 201) return say(`Could not add: ${JSON.stringify(res.data)}`);
  const token = res.headers.get("X-Cart-Token"); // exposed by CORS; also in the body
  if (token) store.set("cartToken", token);
  await showCart();
  say(`Added ${current.name}`);
}

async function showCart() {
  if (!store.get("access") && !store.get("cartToken")) {
    $("cart-count").textContent = "0";
    return;
  }
  const res = await call("GET", "/api/cart/", { headers: cartHeaders() });
  if (res.status === 404) {
    store.set("cartToken", null); // expired or merged: start over
    return showCart();
  }
  const items = $("cart-items");
  items.replaceChildren();
  for (const line of res.data.items) {
    const li = document.createElement("li");
    li.textContent = `${line.quantity} × ${line.product.name} = ${line.line_total}`;
    items.append(li);
  }
  $("cart-count").textContent = res.data.item_count;
  $("cart-total").textContent = res.data.total;
  $("cart").dataset.ready = "true";
}

// --- account ---------------------------------------------------------------------------------

async function register() {
  const res = await call("POST", "/api/auth/register/", { body: { email: $("email").value, password: $("password").value } });
  say(res.status === 201 ? "Registered; now log in." : `Registration failed: ${JSON.stringify(res.data)}`);
}

async function login() {
  const res = await call("POST", "/api/auth/token/", { body: { email: $("email").value, password: $("password").value } });
  if (res.status !== 200) return say(`Login failed: ${JSON.stringify(res.data)}`);
  store.set("access", res.data.access);
  $("who").textContent = `(${$("email").value})`;
  say("Logged in");
}

async function merge() {
  const res = await call("POST", "/api/cart/merge/", { body: { token: store.get("cartToken") } });
  if (res.status !== 200) return say(`Merge failed: ${JSON.stringify(res.data)}`);
  store.set("cartToken", null); // the guest cart is gone; the user's cart follows the login
  await showCart();
  say("Merged");
}

// --- checkout --------------------------------------------------------------------------------

let checkoutKey = null;
let inFlight = Promise.resolve();
let replays = 0;

function address() {
  return {
    full_name: $("full-name").value, line1: $("line1").value, city: $("city").value,
    postal_code: $("postal-code").value, country: $("country").value,
  };
}

async function addressId() {
  const res = await call("POST", "/api/users/addresses/", { body: address() });
  return res.data.id;
}

async function submitOrder() {
  // One key per checkout attempt: a repeated click (or a retry after a network error) cannot order twice.
  checkoutKey = checkoutKey || crypto.randomUUID();
  const headers = { "Idempotency-Key": checkoutKey, ...cartHeaders() };
  let body;
  if (store.get("access")) {
    body = { shipping_address: Number(store.get("addressId") || (await saveAddress())) };
  } else {
    body = { email: $("order-email").value, shipping_address: address() };
  }
  const res = await call("POST", "/api/orders/", { body, headers });
  if (res.headers.get("Idempotent-Replayed") === "true") $("replays").textContent = String(++replays);
  if (res.status !== 201) return say(`Checkout failed: ${JSON.stringify(res.data)}`);
  store.set("orderId", res.data.id);
  if (res.data.guest_token) store.set("orderToken", res.data.guest_token);
  showOrder(res.data);
  await showCart();
  say(`Order ${res.data.number} placed`);
}

async function saveAddress() {
  const id = await addressId();
  store.set("addressId", String(id));
  return id;
}

function placeOrder() {
  // A second click waits for the first request, then repeats it with the same key (answered from the store).
  inFlight = inFlight.then(submitOrder, submitOrder);
  return inFlight;
}

function showOrder(order) {
  $("order").hidden = false;
  $("order-number").textContent = order.number;
  $("order-status").textContent = order.status;
  $("order-payment").textContent = order.payment_status;
  $("order-total").textContent = order.total;
}

async function refreshOrder() {
  const res = await call("GET", `/api/orders/${store.get("orderId")}/`, { headers: orderHeaders() });
  if (res.status === 200) showOrder(res.data);
}

async function pay() {
  const res = await call("POST", "/api/payments/checkout/", {
    body: { order: store.get("orderId") },
    headers: { "Idempotency-Key": `pay-${store.get("orderId")}`, ...orderHeaders() },
  });
  if (res.status !== 201) return say(`Payment failed to start: ${JSON.stringify(res.data)}`);
  // A real storefront redirects to res.data.checkout_url; the test completes the session at the fake Stripe.
  $("payment-session").textContent = res.data.session_id;
  say("Payment started");
}

$("add-to-cart").addEventListener("click", addToCart);
$("register").addEventListener("click", register);
$("login").addEventListener("click", login);
$("merge").addEventListener("click", merge);
$("place-order").addEventListener("click", placeOrder);
$("pay").addEventListener("click", pay);
$("refresh-order").addEventListener("click", refreshOrder);

(async () => {
  await loadProducts();
  await showCart();
  say("Ready");
})();
