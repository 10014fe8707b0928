package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cosi-project/runtime/pkg/resource"
	"github.com/cosi-project/runtime/pkg/state"
	"go.yaml.in/yaml/v4"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"

	// The resource types talosctl knows, registered as talosctl registers them: the client decodes each
	// resource's spec from its proto_spec, as talosctl get does.
	_ "github.com/siderolabs/talos/pkg/machinery/resources/block"
	_ "github.com/siderolabs/talos/pkg/machinery/resources/cluster"
	_ "github.com/siderolabs/talos/pkg/machinery/resources/config"
	_ "github.com/siderolabs/talos/pkg/machinery/resources/etcd"
	_ "github.com/siderolabs/talos/pkg/machinery/resources/runtime"
	_ "github.com/siderolabs/talos/pkg/machinery/resources/secrets"
	_ "github.com/siderolabs/talos/pkg/machinery/resources/time"
	_ "github.com/siderolabs/talos/pkg/machinery/resources/v1alpha1"
)

// Credentials are a client certificate (PEM) and the CA the server's certificate must chain to; nil means
// talosctl --insecure (maintenance mode: no client certificate, server certificate not verified).
type Credentials struct {
	CA  string `json:"ca"`
	Crt string `json:"crt"`
	Key string `json:"key"`
}

// Call is one request the test asks Talos's client library to make.
type Call struct {
	ID       string       `json:"id"`
	Endpoint string       `json:"endpoint"`
	Auth     *Credentials `json:"auth"`
	// Node, when set, is sent as the `node` metadata (one-to-one proxying through Endpoint, client.WithNode).
	Node   string `json:"node"`
	Method string `json:"method"`
	// Arguments by method: QueryLocal (EtcdMemberList); Namespace, Type, ResourceID (Get, List, Watch);
	// Data (ApplyConfiguration, the config text); Path (LS).
	QueryLocal bool   `json:"queryLocal"`
	Namespace  string `json:"namespace"`
	Type       string `json:"type"`
	ResourceID string `json:"resourceId"`
	Data       string `json:"data"`
	Path       string `json:"path"`
	TimeoutMs  int    `json:"timeoutMs"`
}

// Resource is a COSI resource as the client decoded it: the spec is the decoded Go value written as YAML
// (what talosctl get prints), so a spec the client could not decode shows up here.
type Resource struct {
	Namespace string `json:"namespace"`
	Type      string `json:"type"`
	ID        string `json:"id"`
	Version   string `json:"version"`
	Phase     string `json:"phase"`
	Spec      string `json:"spec"`
	GoType    string `json:"goType"`
}

// Event is one Watch event.
type Event struct {
	Type     string    `json:"type"`
	Resource *Resource `json:"resource,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// Result is the outcome of one Call: the gRPC status the client surfaced and the decoded reply.
type Result struct {
	ID      string          `json:"id"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Reply   json.RawMessage `json:"reply,omitempty"`
}

func tlsConfig(auth *Credentials) (*tls.Config, error) {
	if auth == nil {
		return &tls.Config{InsecureSkipVerify: true}, nil //nolint:gosec // talosctl --insecure, maintenance mode
	}

	cert, err := tls.X509KeyPair([]byte(auth.Crt), []byte(auth.Key))
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(auth.CA)) {
		return nil, errors.New("no CA certificate in auth.ca")
	}

	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func toResource(r resource.Resource) (*Resource, error) {
	spec, err := yaml.Marshal(r.Spec())
	if err != nil {
		return nil, fmt.Errorf("spec of %s: %w", r.Metadata().ID(), err)
	}

	md := r.Metadata()

	return &Resource{
		Namespace: md.Namespace(), Type: md.Type(), ID: md.ID(), Version: md.Version().String(),
		Phase: md.Phase().String(), Spec: string(spec), GoType: fmt.Sprintf("%T", r),
	}, nil
}

func protoReply(m proto.Message) (json.RawMessage, error) {
	return protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: false}.Marshal(m)
}

//nolint:gocyclo,cyclop
func doCall(ctx context.Context, call Call) (json.RawMessage, error) {
	cfg, err := tlsConfig(call.Auth)
	if err != nil {
		return nil, err
	}

	c, err := client.New(ctx, client.WithEndpoints(call.Endpoint), client.WithTLSConfig(cfg))
	if err != nil {
		return nil, err
	}

	defer c.Close() //nolint:errcheck

	if call.Node != "" {
		ctx = client.WithNode(ctx, call.Node)
	}

	switch call.Method {
	case "Version":
		resp, err := c.Version(ctx)
		if err != nil {
			return nil, err
		}

		return protoReply(resp)
	case "ServiceList":
		resp, err := c.ServiceList(ctx)
		if err != nil {
			return nil, err
		}

		return protoReply(resp)
	case "SystemStat":
		resp, err := c.MachineClient.SystemStat(ctx, &emptypb.Empty{})
		if err != nil {
			return nil, err
		}

		return protoReply(resp)
	case "EtcdMemberList":
		resp, err := c.EtcdMemberList(ctx, &machine.EtcdMemberListRequest{QueryLocal: call.QueryLocal})
		if err != nil {
			return nil, err
		}

		return protoReply(resp)
	case "Bootstrap":
		return nil, c.Bootstrap(ctx, &machine.BootstrapRequest{})
	case "ApplyConfiguration":
		resp, err := c.ApplyConfiguration(ctx, &machine.ApplyConfigurationRequest{
			Data: []byte(call.Data), Mode: machine.ApplyConfigurationRequest_AUTO,
		})
		if err != nil {
			return nil, err
		}

		return protoReply(resp)
	case "LS":
		stream, err := c.LS(ctx, &machine.ListRequest{Root: call.Path})
		if err != nil {
			return nil, err
		}

		var entries []json.RawMessage

		for {
			info, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}

			if err != nil {
				return nil, err
			}

			raw, err := protoReply(info)
			if err != nil {
				return nil, err
			}

			entries = append(entries, raw)
		}

		return json.Marshal(entries)
	case "Get":
		r, err := c.COSI.Get(ctx, resource.NewMetadata(call.Namespace, call.Type, call.ResourceID, resource.VersionUndefined))
		if err != nil {
			return nil, err
		}

		out, err := toResource(r)
		if err != nil {
			return nil, err
		}

		return json.Marshal(out)
	case "List":
		list, err := c.COSI.List(ctx, resource.NewMetadata(call.Namespace, call.Type, "", resource.VersionUndefined))
		if err != nil {
			return nil, err
		}

		out := []*Resource{}

		for _, r := range list.Items {
			res, err := toResource(r)
			if err != nil {
				return nil, err
			}

			out = append(out, res)
		}

		return json.Marshal(out)
	case "Watch":
		return watch(ctx, c, call)
	default:
		return nil, fmt.Errorf("unknown method %q", call.Method)
	}
}

// watch collects events until the initial contents are complete: WatchKind with bootstrap contents ends at
// the Bootstrapped event; Watch of one resource ends after its first event (its current state).
func watch(ctx context.Context, c *client.Client, call Call) (json.RawMessage, error) {
	ch := make(chan state.Event)
	md := resource.NewMetadata(call.Namespace, call.Type, call.ResourceID, resource.VersionUndefined)

	var err error
	if call.ResourceID == "" {
		err = c.COSI.WatchKind(ctx, md, ch, state.WithBootstrapContents(true))
	} else {
		err = c.COSI.Watch(ctx, md, ch)
	}

	if err != nil {
		return nil, err
	}

	events := []Event{}

	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("watch: %w after %d events", ctx.Err(), len(events))
		case ev := <-ch:
			out := Event{Type: ev.Type.String()}

			if ev.Error != nil {
				out.Error = ev.Error.Error()
			}

			if ev.Resource != nil {
				res, err := toResource(ev.Resource)
				if err != nil {
					return nil, err
				}

				out.Resource = res
			}

			events = append(events, out)

			if ev.Type == state.Errored || ev.Type == state.Bootstrapped || call.ResourceID != "" {
				return json.Marshal(events)
			}
		}
	}
}

// runClientSuite makes each call of the spec (a JSON list of Call) in order and writes a JSON list of Result.
func runClientSuite(specPath string, out io.Writer) error {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}

	var calls []Call
	if err = json.Unmarshal(data, &calls); err != nil {
		return fmt.Errorf("spec: %w", err)
	}

	results := make([]Result, 0, len(calls))

	for _, call := range calls {
		timeout := time.Duration(call.TimeoutMs) * time.Millisecond
		if timeout == 0 {
			timeout = 10 * time.Second
		}

		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		reply, err := doCall(ctx, call)

		cancel()

		st, _ := status.FromError(err)
		results = append(results, Result{ID: call.ID, Code: st.Code().String(), Message: st.Message(), Reply: reply})
	}

	return json.NewEncoder(out).Encode(results)
}
