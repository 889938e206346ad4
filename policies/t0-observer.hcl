# T0 observer: no secrets at all. Its token can only look itself up.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
