# T4 architect: inventory and shared configuration, read only.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "secret/data/inventory/*" {
  capabilities = ["read"]
}
path "secret/data/shared/*" {
  capabilities = ["read"]
}
