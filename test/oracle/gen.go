package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config"
	configconfig "github.com/siderolabs/talos/pkg/machinery/config/config"
	"github.com/siderolabs/talos/pkg/machinery/config/container"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/types/runtime/extensions"
)

// Contracts are the version contracts the extension supports: ExtensionServiceConfig and the
// `configuration` dependency exist from v1.7.0.
var contracts = []*config.VersionContract{
	config.TalosVersion1_7, config.TalosVersion1_8, config.TalosVersion1_9, config.TalosVersion1_10,
	config.TalosVersion1_11, config.TalosVersion1_12, config.TalosVersion1_13, config.TalosVersion1_14,
}

const (
	clusterName       = "oracle"
	clusterEndpoint   = "https://oracle.autobootstrap.test:6443"
	kubernetesVersion = "1.33.1"
)

// Expectation is what a test may assert about one generated config, taken from the generator's inputs
// (never parsed back from the generated text).
type Expectation struct {
	Contract    string `json:"contract"`
	File        string `json:"file"`
	MachineType string `json:"machineType"`
	// OSCACert and OSCAKey are the secrets bundle's OS CA (machine.ca) as PEM; OSCAKey is empty for workers.
	OSCACert string `json:"osCaCert"`
	OSCAKey  string `json:"osCaKey"`
	// EtcdCACert is the etcd CA a control plane carries (cluster.etcd.ca); empty for workers.
	EtcdCACert  string `json:"etcdCaCert"`
	ClusterName string `json:"clusterName"`
	// Kinds lists the documents in the file, in order.
	Kinds []string `json:"kinds"`
}

// autobootstrapDocument is the ExtensionServiceConfig every generated config carries: the service's
// required QUORUM_NODES for a three-control-plane plan.
func autobootstrapDocument() configconfig.Document {
	doc := extensions.NewServicesConfigV1Alpha1()
	doc.ServiceName = "autobootstrap"
	doc.ServiceEnvironment = []string{"TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=2", "TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=3"}

	return doc
}

func contractName(c *config.VersionContract) string { return fmt.Sprintf("v%d.%d", c.Major, c.Minor) }

// generateAll writes DIR/<contract>/{controlplane,worker}.yaml and DIR/index.json (a list of Expectation).
// The secrets bundle's clock is fixed so certificates do not depend on when the tests run.
func generateAll(dir string) error {
	clock := secrets.NewFixedClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))

	var index []Expectation

	for _, contract := range contracts {
		bundle, err := secrets.NewBundle(clock, contract)
		if err != nil {
			return fmt.Errorf("%s: secrets: %w", contractName(contract), err)
		}

		input, err := generate.NewInput(clusterName, clusterEndpoint, kubernetesVersion,
			generate.WithVersionContract(contract), generate.WithSecretsBundle(bundle),
			// talosctl gen config's default (--install-disk /dev/sda); v1.14 generates no .machine.install at all.
			generate.WithInstallDisk("/dev/sda"))
		if err != nil {
			return fmt.Errorf("%s: input: %w", contractName(contract), err)
		}

		for _, t := range []machine.Type{machine.TypeControlPlane, machine.TypeWorker} {
			exp, err := writeOne(dir, contract, input, bundle, t)
			if err != nil {
				return fmt.Errorf("%s %s: %w", contractName(contract), t, err)
			}

			index = append(index, exp)
		}
	}

	data, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return err
	}

	return os.WriteFile(filepath.Join(dir, "index.json"), data, 0o644)
}

func writeOne(dir string, contract *config.VersionContract, input *generate.Input, bundle *secrets.Bundle, t machine.Type) (Expectation, error) {
	provider, err := input.Config(t)
	if err != nil {
		return Expectation{}, err
	}

	docs := append(provider.Documents(), autobootstrapDocument())

	withService, err := container.New(docs...)
	if err != nil {
		return Expectation{}, err
	}

	// Comments off: the form talosctl gen config --with-docs=false --with-examples=false writes.
	data, err := withService.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		return Expectation{}, err
	}

	rel := filepath.Join(contractName(contract), t.String()+".yaml")
	if err = os.MkdirAll(filepath.Join(dir, contractName(contract)), 0o755); err != nil {
		return Expectation{}, err
	}

	if err = os.WriteFile(filepath.Join(dir, rel), data, 0o600); err != nil {
		return Expectation{}, err
	}

	exp := Expectation{
		Contract:    contractName(contract),
		File:        rel,
		MachineType: t.String(),
		OSCACert:    string(bundle.Certs.OS.Crt),
		ClusterName: clusterName,
	}

	if t.IsControlPlane() {
		exp.OSCAKey = string(bundle.Certs.OS.Key)
		exp.EtcdCACert = string(bundle.Certs.Etcd.Crt)
	}

	for _, d := range withService.Documents() {
		exp.Kinds = append(exp.Kinds, d.Kind())
	}

	return exp, nil
}

// simContract is the version contract of the simulator's clusters: the simulated nodes report Talos v1.13.0.
var simContract = config.TalosVersion1_13

// generateSimClusters writes DIR/<i>/{controlplane,worker}.yaml for n clusters, each from its own secrets
// bundle (as n separate `talosctl gen config` runs would), plus DIR/index.json (the list of cluster
// directories). The simulator (test/sim/generated-clusters.ts) serves cluster i to its i-th cluster group,
// so groups that must not trust each other get different CAs.
// The clock is the system's, as talosctl gen config uses, so the CAs are as fresh as the build.
func generateSimClusters(dir string, n int) error {
	clock := secrets.NewClock()

	var index []string

	for i := range n {
		bundle, err := secrets.NewBundle(clock, simContract)
		if err != nil {
			return fmt.Errorf("cluster %d: secrets: %w", i, err)
		}

		name := fmt.Sprintf("sim-%d", i)

		input, err := generate.NewInput(name, "https://"+name+".autobootstrap.test:6443", kubernetesVersion,
			generate.WithVersionContract(simContract), generate.WithSecretsBundle(bundle), generate.WithInstallDisk("/dev/sda"))
		if err != nil {
			return fmt.Errorf("cluster %d: input: %w", i, err)
		}

		sub := filepath.Join(dir, name)
		if err = os.MkdirAll(sub, 0o755); err != nil {
			return err
		}

		for _, t := range []machine.Type{machine.TypeControlPlane, machine.TypeWorker} {
			provider, err := input.Config(t)
			if err != nil {
				return fmt.Errorf("cluster %d %s: %w", i, t, err)
			}

			withService, err := container.New(append(provider.Documents(), autobootstrapDocument())...)
			if err != nil {
				return err
			}

			data, err := withService.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
			if err != nil {
				return err
			}

			if err = os.WriteFile(filepath.Join(sub, t.String()+".yaml"), data, 0o600); err != nil {
				return err
			}
		}

		index = append(index, name)
	}

	data, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return err
	}

	return os.WriteFile(filepath.Join(dir, "index.json"), data, 0o644)
}
