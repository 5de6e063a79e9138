"""The credential seal on a PKCS#11 token: signing (signer), the key ceremony (ceremony, cli → `edc-hsm`),
expiry warnings, and a SoftHSM demo token. Imports nothing from the rest of the project."""
