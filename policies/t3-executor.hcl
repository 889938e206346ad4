# T3 executor: read the shared inventory (hosts, endpoints) besides its own secrets.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "secret/data/inventory/*" {
  capabilities = ["read"]
}
