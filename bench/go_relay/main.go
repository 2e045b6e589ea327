// Command go_relay is the bench's stand-in for a Go executor: SubmitTask over grpc-go, the
// aggregator's BN254 signature checked per task with gnark-crypto (one pairing, no batching),
// ExecuteTask on the performer over grpc-go, the output signed (keccak256, Solidity hash to G1)
// and returned as a TaskResult. It does a subset of what an executor does per task (no routing,
// no logs, one cached key), so on the same machine it bounds a Go executor's throughput from
// above. Nothing of the executor uses it; bench/throughput.py --go-relay runs it beside the
// executor in the same run.
package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"log"
	"math/big"
	"net"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"golang.org/x/crypto/sha3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

const (
	submitTask  = "/eigenlayer.hourglass.v1.ExecutorService/SubmitTask"
	executeTask = "/eigenlayer.hourglass.v1.performer.PerformerService/ExecuteTask"
)

var dst = []byte("BLS_SIG_BN254G1_XMD:SHA-256_SSWU_RO_NUL_")

// rawCodec passes message bytes through, so that the relay decodes only the fields it needs.
// It takes the name "proto" to replace grpc's own codec in this binary (the wire is the same)
// and encodes every other message, the health service's, with the protobuf library.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if raw, ok := v.(*[]byte); ok {
		return *raw, nil
	}
	return proto.Marshal(v.(proto.Message))
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	if raw, ok := v.(*[]byte); ok {
		*raw = append([]byte(nil), data...)
		return nil
	}
	return proto.Unmarshal(data, v.(proto.Message))
}

func (rawCodec) Name() string { return "proto" }

type submission struct {
	taskID, avsAddress string
	payload, signature []byte
}

func decodeSubmission(data []byte) (submission, error) {
	var s submission
	for len(data) > 0 {
		number, kind, n := protowire.ConsumeTag(data)
		if n < 0 {
			return s, errors.New("malformed TaskSubmission")
		}
		data = data[n:]
		if kind != protowire.BytesType {
			n = protowire.ConsumeFieldValue(number, kind, data)
			if n < 0 {
				return s, errors.New("malformed TaskSubmission")
			}
			data = data[n:]
			continue
		}
		value, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return s, errors.New("malformed TaskSubmission")
		}
		data = data[n:]
		switch number {
		case 1:
			s.taskID = string(value)
		case 3:
			s.avsAddress = string(value)
		case 4:
			s.payload = value
		case 5:
			s.signature = value
		}
	}
	return s, nil
}

func decodeResult(data []byte) ([]byte, error) {
	var result []byte
	for len(data) > 0 {
		number, kind, n := protowire.ConsumeTag(data)
		if n < 0 {
			return nil, errors.New("malformed TaskResponse")
		}
		data = data[n:]
		n = protowire.ConsumeFieldValue(number, kind, data)
		if n < 0 {
			return nil, errors.New("malformed TaskResponse")
		}
		if number == 2 && kind == protowire.BytesType {
			result, _ = protowire.ConsumeBytes(data[:n])
		}
		data = data[n:]
	}
	return result, nil
}

// sqrtExponent is (p + 1) / 4: p ≡ 3 (mod 4), so beta^((p+1)/4) is a square root of beta.
var sqrtExponent = new(big.Int).Rsh(new(big.Int).Add(fp.Modulus(), big.NewInt(1)), 2)

// solidityHash is the try-and-increment hash to G1 of EigenLayer's BN254 Solidity library.
func solidityHash(digest []byte) bn254.G1Affine {
	var x, beta, y, check, three, one fp.Element
	x.SetBigInt(new(big.Int).SetBytes(digest))
	three.SetUint64(3)
	one.SetOne()
	for {
		beta.Square(&x).Mul(&beta, &x).Add(&beta, &three)
		y.Exp(beta, sqrtExponent)
		if check.Square(&y).Equal(&beta) {
			return bn254.G1Affine{X: x, Y: y}
		}
		x.Add(&x, &one)
	}
}

func field(number protowire.Number, value []byte, out []byte) []byte {
	out = protowire.AppendTag(out, number, protowire.BytesType)
	return protowire.AppendBytes(out, value)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve SubmitTask on")
	performer := flag.String("performer", "", "host:port of the performer")
	aggregatorKey := flag.String("aggregator-key", "", "the aggregator's G2 public key, hex")
	operatorKey := flag.String("operator-key", "", "the operator's BN254 secret, hex")
	operator := flag.String("operator-address", "", "the operator address put in results")
	flag.Parse()
	encoding.RegisterCodec(rawCodec{})
	keyBytes, err := hex.DecodeString(*aggregatorKey)
	if err != nil {
		log.Fatal(err)
	}
	// gnark's uncompressed encodings are ours (big-endian X‖Y, G2 words as A1‖A0, no flag
	// bits set for canonical field elements); SetBytes checks the curve and the subgroup.
	var key bn254.G2Affine
	if _, err := key.SetBytes(keyBytes); err != nil || len(keyBytes) != 128 {
		log.Fatalf("-aggregator-key: not a 128-byte G2 point: %v", err)
	}
	secretBytes, err := hex.DecodeString(*operatorKey)
	if err != nil {
		log.Fatal(err)
	}
	secret := new(big.Int).Mod(new(big.Int).SetBytes(secretBytes), fr.Modulus())
	_, _, _, g2 := bn254.Generators()
	var minusG2 bn254.G2Affine
	minusG2.Neg(&g2)
	conn, err := grpc.NewClient(*performer, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}

	handler := func(_ any, stream grpc.ServerStream) error {
		if method, _ := grpc.MethodFromServerStream(stream); method != submitTask {
			return status.Errorf(codes.Unimplemented, "%s is not served", method)
		}
		var body []byte
		if err := stream.RecvMsg(&body); err != nil {
			return err
		}
		task, err := decodeSubmission(body)
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		var signature bn254.G1Affine
		if len(task.signature) != 64 {
			return status.Error(codes.Unauthenticated, "signature: not a 64-byte G1 point")
		}
		if _, err := signature.SetBytes(task.signature); err != nil {
			return status.Error(codes.Unauthenticated, "signature: "+err.Error())
		}
		hash, err := bn254.HashToG1(task.payload, dst)
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		ok, err := bn254.PairingCheck([]bn254.G1Affine{signature, hash}, []bn254.G2Affine{minusG2, key})
		if err != nil || !ok {
			return status.Error(codes.Unauthenticated, "signature: does not verify")
		}
		request := field(2, task.payload, field(1, []byte(task.taskID), nil))
		var response []byte
		if err := conn.Invoke(stream.Context(), executeTask, &request, &response); err != nil {
			return err
		}
		output, err := decodeResult(response)
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		hasher := sha3.NewLegacyKeccak256()
		hasher.Write(output)
		point := solidityHash(hasher.Sum(nil))
		var signed bn254.G1Affine
		signed.ScalarMultiplication(&point, secret)
		x, y := signed.X.Bytes(), signed.Y.Bytes()
		result := field(1, []byte(task.taskID), nil)
		result = field(2, []byte(*operator), result)
		result = field(3, output, result)
		result = field(4, append(x[:], y[:]...), result)
		result = field(5, []byte(task.avsAddress), result)
		return stream.SendMsg(&result)
	}

	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving on %s", listener.Addr())
	server := grpc.NewServer(grpc.UnknownServiceHandler(handler))
	// grpc.health.v1 as a registered service, so that the bench can time a Check beside the load
	// as it does for the executor.
	healthpb.RegisterHealthServer(server, health.NewServer())
	log.Fatal(server.Serve(listener))
}
