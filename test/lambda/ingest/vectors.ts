/**
 * Official (and clearly marked self-computed) signature vectors from
 * /work/shared/reference/reliability-security.md §1.
 */

export const GITHUB_VECTOR = {
  secret: "It's a Secret to Everybody",
  body: 'Hello, World!',
  header: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
};

export const SLACK_VECTOR = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: 1531420618,
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

export const STANDARD_WEBHOOKS_VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

export const TWILIO_VECTOR = {
  secret: '12345',
  url: 'https://mycompany.com/myapp.php?foo=1&bar=2',
  body: 'CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212',
  signature: '0/KCTR6DLpKmkAf8muzZqo1nDgQ=',
};

/** Self-computed from the stripe-node algorithm (Stripe publishes no vector). */
export const STRIPE_FIXTURE = {
  secret: 'whsec_test_secret',
  timestamp: 1492774577,
  body: '{"id":"evt_test_webhook","object":"event"}',
  v1: '88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a',
};

/** Self-computed (Shopify publishes no vector). */
export const SHOPIFY_FIXTURE = {
  secret: 'shop-secret',
  body: '{"id":1}',
  signature: 'plW8VGqq0nDMIEhDqaNNW99asdUCy7EIqLZVcQwtAZ0=',
};
