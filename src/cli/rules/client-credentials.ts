// Why a configured node would refuse the talosconfig's client certificate, read from the talosconfig alone.
// A TLS handshake that apid aborts says nothing useful on the client side (grpc-js: "Failed to connect"), so
// the reasons apid has are checked here, in apid's order:
//   - the certificate must chain to the node's OS CA, which the talosconfig's `ca` is (Go's
//     RequireAndVerifyClientCert: expiry and signature);
//   - every non-CA certificate of the chain must have extended key usage exactly [clientAuth]
//     (Talos internal/app/apid/main.go verifyExtKeyUsage, slices.Equal; ../shared/TALOS-FACTS.md).
// Pure: PEMs and the time in, a problem and its fix out.
import { X509Certificate } from 'node:crypto';
import type { ClientIdentity } from '../../talos/channel.ts';

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '2.5.29.37.0': 'any',
};

/** What is wrong with the talosconfig's client certificate, and what the operator does about it. */
export interface CredentialProblem {
  problem: string;
  fix: string;
}

const NEW_TALOSCONFIG =
  'generate a new talosconfig from this cluster\'s secrets (talosctl gen config --with-secrets secrets.yaml CLUSTER https://ENDPOINT:6443 --output-types talosconfig), or with talosctl config new from a talosconfig that still works, and pass it with --talosconfig';

/**
 * The first reason apid would refuse `identity`'s client certificate at `now`, or undefined when none is
 * visible from here (then the node refused it for a reason of its own).
 */
export function clientCertificateProblem(identity: ClientIdentity, now: Date): CredentialProblem | undefined {
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(identity.certPem);
    ca = new X509Certificate(identity.caPem);
  } catch (e) {
    return { problem: `the talosconfig's crt or ca cannot be read as a certificate (${(e as Error).message})`, fix: NEW_TALOSCONFIG };
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    return {
      problem: `the talosconfig's client certificate is not signed by the talosconfig's CA (issuer ${cert.issuer.split('\n').join(', ')}): its crt is from another cluster`,
      fix: `use this cluster's talosconfig (ca, crt and key from the same cluster); ${NEW_TALOSCONFIG}`,
    };
  }
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  if (now.getTime() > notAfter.getTime()) {
    return { problem: `the talosconfig's client certificate expired at ${notAfter.toISOString()}`, fix: NEW_TALOSCONFIG };
  }
  if (now.getTime() < notBefore.getTime()) {
    // Refused by the node (apid checks validity against the node's clock) and in the future by this
    // machine's clock too: a clock is off, most likely the one of the machine that issued the certificate.
    return {
      problem: `the talosconfig's client certificate is not yet valid (not until ${notBefore.toISOString()}; this machine's clock says ${now.toISOString()}): clock skew`,
      fix: `set the clocks right (NTP): the clock of the machine that generated the talosconfig was ahead, or this machine's and the nodes' are behind (apid checks the certificate against the node's clock); then it is accepted from ${notBefore.toISOString()} on; or ${NEW_TALOSCONFIG}`,
    };
  }
  const ekus = cert.keyUsage ?? [];
  if (ekus.length !== 1 || ekus[0] !== '1.3.6.1.5.5.7.3.2') {
    const named = ekus.length === 0 ? 'none' : ekus.map((o) => EKU_NAMES[o] ?? o).join(', ');
    return {
      problem: `the talosconfig's client certificate has extended key usage ${named}; apid accepts exactly clientAuth`,
      fix: `issue a client certificate with extended key usage clientAuth only: ${NEW_TALOSCONFIG}`,
    };
  }
  return undefined;
}
