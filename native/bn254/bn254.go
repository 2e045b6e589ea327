// Package main is the executor's native BN254 backend: gnark-crypto (the library crypto-libs and
// the Hourglass aggregator sign with) behind a small C ABI, built with -buildmode=c-shared and
// loaded by executor_adapters.signing.bn254_native through ctypes, which releases the GIL for
// the length of every call.
//
// Encodings are those of signing.md §1.4: G1 is 64 bytes X ‖ Y, G2 128 bytes
// X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0, big-endian, each coordinate below p, the point at infinity all
// zeros. Secret keys are big-endian bytes of any length, reduced mod r.
package main

/*
#include <stdint.h>
*/
import "C"

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"slices"
	"sync"
	"syscall"
	"unsafe"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"golang.org/x/crypto/sha3"
)

// Status codes returned to Python; every other outcome is a verdict in an output buffer.
const (
	statusOK         = 0
	statusBadKey     = 1
	statusBadInput   = 2
	statusHashFailed = 3
)

const (
	g1Bytes     = 64
	g2Bytes     = 128
	scalarBytes = 16
	keyCacheMax = 1024
	// msmThreshold is the batch size from which a multi-exponentiation beats one scalar
	// multiplication per point (on a 2-core Xeon: 0.29 against 0.08 ms at 2 points, 0.48
	// against 0.58 ms at 8).
	msmThreshold = 6
)

type lines = [2][len(bn254.LoopCounter)]bn254.LineEvaluationAff

var (
	negGeneratorLines lines
	// (p + 1) / 4: β^((p+1)/4) is the square root Solidity's BN254.hashToG1 takes (p ≡ 3 mod 4).
	sqrtExponent *big.Int

	keysMu sync.Mutex
	keys   = map[[g2Bytes]byte]*lines{}
)

func init() {
	_, _, _, g2 := bn254.Generators()
	var neg bn254.G2Affine
	neg.Neg(&g2)
	negGeneratorLines = bn254.PrecomputeLines(neg)
	sqrtExponent = new(big.Int).Add(fp.Modulus(), big.NewInt(1))
	sqrtExponent.Rsh(sqrtExponent, 2)
}

func view(pointer *C.uint8_t, length C.size_t) []byte {
	if length == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(pointer)), int(length))
}

func fieldElement(data []byte) (fp.Element, error) {
	var element fp.Element
	err := element.SetBytesCanonical(data)
	return element, err
}

func decodeG1(data []byte) (bn254.G1Affine, error) {
	var point bn254.G1Affine
	if len(data) != g1Bytes {
		return point, errors.New("a G1 point is 64 bytes")
	}
	if allZero(data) {
		return point, nil
	}
	var err error
	if point.X, err = fieldElement(data[:32]); err != nil {
		return point, err
	}
	if point.Y, err = fieldElement(data[32:]); err != nil {
		return point, err
	}
	if !point.IsOnCurve() {
		return point, errors.New("the G1 point is not on the curve")
	}
	return point, nil
}

func decodeG2(data []byte) (bn254.G2Affine, error) {
	var point bn254.G2Affine
	if len(data) != g2Bytes {
		return point, errors.New("a G2 point is 128 bytes")
	}
	words := [4]*fp.Element{&point.X.A1, &point.X.A0, &point.Y.A1, &point.Y.A0}
	for i, word := range words {
		element, err := fieldElement(data[i*32 : (i+1)*32])
		if err != nil {
			return point, err
		}
		*word = element
	}
	if point.IsInfinity() {
		return point, errors.New("the G2 point is the point at infinity")
	}
	if !point.IsOnCurve() || !point.IsInSubGroup() {
		return point, errors.New("the G2 point is not in the prime-order subgroup")
	}
	return point, nil
}

func allZero(data []byte) bool {
	for _, b := range data {
		if b != 0 {
			return false
		}
	}
	return true
}

func encodeG1(point *bn254.G1Affine, out []byte) {
	if point.IsInfinity() {
		clear(out[:g1Bytes])
		return
	}
	x := point.X.Bytes()
	y := point.Y.Bytes()
	copy(out[:32], x[:])
	copy(out[32:g1Bytes], y[:])
}

// keyLines returns the Miller-loop lines of a public key, decoding and subgroup-checking it on
// first use only; aggregators have few keys, so the cache is simply emptied when it fills up.
func keyLines(data []byte) (*lines, error) {
	var id [g2Bytes]byte
	if len(data) != g2Bytes {
		return nil, errors.New("a G2 point is 128 bytes")
	}
	copy(id[:], data)
	keysMu.Lock()
	cached := keys[id]
	keysMu.Unlock()
	if cached != nil {
		return cached, nil
	}
	point, err := decodeG2(data)
	if err != nil {
		return nil, err
	}
	prepared := bn254.PrecomputeLines(point)
	keysMu.Lock()
	if len(keys) >= keyCacheMax {
		keys = map[[g2Bytes]byte]*lines{}
	}
	keys[id] = &prepared
	keysMu.Unlock()
	return &prepared, nil
}

func secretScalar(data []byte) *big.Int {
	scalar := new(big.Int).SetBytes(data)
	return scalar.Mod(scalar, fr.Modulus())
}

// solidityHash is BN254.hashToG1(bytes32) of EigenLayer's Solidity library (signing.md §1.6):
// try-and-increment from x = digest mod p, with the raw exponentiation as y.
func solidityHash(digest []byte) bn254.G1Affine {
	var x, beta, y, check, three fp.Element
	x.SetBigInt(new(big.Int).SetBytes(digest))
	three.SetUint64(3)
	var one fp.Element
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

// weightedSum is Σ rᵢPᵢ by one GLV multiplication per point, which beats a multi-exponentiation
// for the handful of points a batch usually has.
func weightedSum(points []bn254.G1Affine, weights []fr.Element) bn254.G1Affine {
	var sum, term bn254.G1Jac
	var weight big.Int
	for i := range points {
		weights[i].BigInt(&weight)
		term.FromAffine(&points[i])
		term.ScalarMultiplication(&term, &weight)
		sum.AddAssign(&term)
	}
	var out bn254.G1Affine
	out.FromJacobian(&sum)
	return out
}

// batch holds the decoded signatures, message hashes and random weights of one verification.
type batch struct {
	signatures, hashes []bn254.G1Affine
	weights            []fr.Element
}

// holds checks e(Σ rᵢσᵢ, −G2)·e(Σ rᵢH(mᵢ), pk) = 1 over the items: with weights rᵢ unknown to
// whoever made the signatures, a set holding any bad one fails except with probability about
// 2⁻¹²⁸. A single item needs no weight.
func (b *batch) holds(key *lines, items []int) bool {
	var s, h bn254.G1Affine
	if len(items) == 1 {
		s, h = b.signatures[items[0]], b.hashes[items[0]]
	} else {
		signatures := make([]bn254.G1Affine, len(items))
		hashes := make([]bn254.G1Affine, len(items))
		weights := make([]fr.Element, len(items))
		for j, i := range items {
			signatures[j], hashes[j], weights[j] = b.signatures[i], b.hashes[i], b.weights[i]
		}
		if len(items) < msmThreshold {
			s, h = weightedSum(signatures, weights), weightedSum(hashes, weights)
		} else {
			config := ecc.MultiExpConfig{NbTasks: 1}
			if _, err := s.MultiExp(signatures, weights, config); err != nil {
				return false
			}
			if _, err := h.MultiExp(hashes, weights, config); err != nil {
				return false
			}
		}
	}
	ok, err := bn254.PairingCheckFixedQ([]bn254.G1Affine{s, h}, []lines{negGeneratorLines, *key})
	return err == nil && ok
}

// settle writes a verdict for every item of a failed batch. Halves are checked again, so that
// a few bad signatures cost a few pairings; once both halves of a split fail, bad signatures are
// common and each remaining item is checked alone, which bounds a flood of them at about n + 3
// checks instead of the 2n of plain bisection.
func settle(key *lines, items []int, batch *batch, verdicts []byte, alone bool) {
	if len(items) == 1 || alone {
		for _, i := range items {
			if batch.holds(key, []int{i}) {
				verdicts[i] = 1
			}
		}
		return
	}
	halves := [2][]int{items[:len(items)/2], items[len(items)/2:]}
	held := [2]bool{batch.holds(key, halves[0]), batch.holds(key, halves[1])}
	for side, half := range halves {
		if held[side] {
			for _, i := range half {
				verdicts[i] = 1
			}
		} else {
			settle(key, half, batch, verdicts, !held[0] && !held[1])
		}
	}
}

// verifyBatch writes into out whether each signature signs its message under the key: one
// weighted multi-pairing for all of them, and settle when it fails.
func verifyBatch(publicKey []byte, bounds []uint64, text, sigBytes, scalarData, tag, out []byte) int {
	n := len(out)
	key, err := keyLines(publicKey)
	if err != nil {
		return statusBadKey
	}
	clear(out)
	work := &batch{
		signatures: make([]bn254.G1Affine, 0, n),
		hashes:     make([]bn254.G1Affine, 0, n),
		weights:    make([]fr.Element, 0, n),
	}
	index := make([]int, 0, n)
	for i := 0; i < n; i++ {
		start, end := bounds[i], bounds[i+1]
		if start > end || end > uint64(len(text)) {
			return statusBadInput
		}
		signature, err := decodeG1(sigBytes[i*g1Bytes : (i+1)*g1Bytes])
		if err != nil || signature.IsInfinity() {
			continue
		}
		hash, err := bn254.HashToG1(text[start:end], tag)
		if err != nil {
			return statusHashFailed
		}
		var weight fr.Element
		weight.SetBytes(scalarData[i*scalarBytes : (i+1)*scalarBytes])
		if weight.IsZero() {
			return statusBadInput
		}
		work.signatures = append(work.signatures, signature)
		work.hashes = append(work.hashes, hash)
		work.weights = append(work.weights, weight)
		index = append(index, i)
	}
	items := make([]int, len(index))
	for j := range items {
		items[j] = j
	}
	local := make([]byte, len(index))
	if len(items) > 0 {
		if work.holds(key, items) {
			for j := range local {
				local[j] = 1
			}
		} else {
			settle(key, items, work, local, false)
		}
	}
	for j, i := range index {
		out[i] = local[j]
	}
	return statusOK
}

//export executor_bn254_verify_batch
func executor_bn254_verify_batch(
	publicKey *C.uint8_t, count C.size_t,
	messages *C.uint8_t, messagesLen C.size_t, offsets *C.uint64_t,
	signatures *C.uint8_t, scalars *C.uint8_t,
	dst *C.uint8_t, dstLen C.size_t,
	verdicts *C.uint8_t,
) C.int {
	n := int(count)
	if n == 0 {
		_, err := keyLines(view(publicKey, g2Bytes))
		if err != nil {
			return statusBadKey
		}
		return statusOK
	}
	return C.int(verifyBatch(
		view(publicKey, g2Bytes),
		unsafe.Slice((*uint64)(unsafe.Pointer(offsets)), n+1),
		view(messages, messagesLen),
		view(signatures, C.size_t(n*g1Bytes)),
		view(scalars, C.size_t(n*scalarBytes)),
		view(dst, dstLen),
		view(verdicts, count),
	))
}

// executor_bn254_verify_batch_async is verify_batch without a waiting thread: it copies its
// inputs, returns at once, and a goroutine computes, writes the verdicts into the caller's
// buffer (which the caller keeps alive until told) and then writes the 8-byte token and the
// status byte to notifyFd. An event loop watching that pipe needs no thread, so no thread
// has to win the GIL back from it when the pairing is done.
//
//export executor_bn254_verify_batch_async
func executor_bn254_verify_batch_async(
	publicKey *C.uint8_t, count C.size_t,
	messages *C.uint8_t, messagesLen C.size_t, offsets *C.uint64_t,
	signatures *C.uint8_t, scalars *C.uint8_t,
	dst *C.uint8_t, dstLen C.size_t,
	verdicts *C.uint8_t, notifyFd C.int, token C.uint64_t,
) C.int {
	n := int(count)
	key := bytes.Clone(view(publicKey, g2Bytes))
	bounds := slices.Clone(unsafe.Slice((*uint64)(unsafe.Pointer(offsets)), n+1))
	text := bytes.Clone(view(messages, messagesLen))
	sigBytes := bytes.Clone(view(signatures, C.size_t(n*g1Bytes)))
	scalarData := bytes.Clone(view(scalars, C.size_t(n*scalarBytes)))
	tag := bytes.Clone(view(dst, dstLen))
	out := view(verdicts, count)
	go func() {
		local := make([]byte, n)
		status := verifyBatch(key, bounds, text, sigBytes, scalarData, tag, local)
		copy(out, local)
		notify(notifyFd, token, byte(status))
	}()
	return statusOK
}

//export executor_bn254_verify_solidity
func executor_bn254_verify_solidity(publicKey *C.uint8_t, digest *C.uint8_t, signature *C.uint8_t, verdict *C.uint8_t) C.int {
	key, err := keyLines(view(publicKey, g2Bytes))
	if err != nil {
		return statusBadKey
	}
	out := view(verdict, 1)
	out[0] = 0
	sig, err := decodeG1(view(signature, g1Bytes))
	if err != nil {
		return statusOK
	}
	hash := solidityHash(view(digest, 32))
	ok, err := bn254.PairingCheckFixedQ([]bn254.G1Affine{sig, hash}, []lines{negGeneratorLines, *key})
	if err == nil && ok {
		out[0] = 1
	}
	return statusOK
}

//export executor_bn254_sign
func executor_bn254_sign(secret *C.uint8_t, secretLen C.size_t, message *C.uint8_t, messageLen C.size_t, dst *C.uint8_t, dstLen C.size_t, out *C.uint8_t) C.int {
	hash, err := bn254.HashToG1(view(message, messageLen), view(dst, dstLen))
	if err != nil {
		return statusHashFailed
	}
	var signature bn254.G1Affine
	signature.ScalarMultiplication(&hash, secretScalar(view(secret, secretLen)))
	encodeG1(&signature, view(out, g1Bytes))
	return statusOK
}

// notify tells the event loop watching fd that the job of token ended with status.
func notify(fd C.int, token C.uint64_t, status byte) {
	var record [9]byte
	binary.LittleEndian.PutUint64(record[:8], uint64(token))
	record[8] = status
	for {
		_, err := syscall.Write(int(fd), record[:])
		if err != syscall.EINTR {
			break
		}
	}
}

//export executor_bn254_sign_solidity
func executor_bn254_sign_solidity(secret *C.uint8_t, secretLen C.size_t, digest *C.uint8_t, out *C.uint8_t) C.int {
	hash := solidityHash(view(digest, 32))
	var signature bn254.G1Affine
	signature.ScalarMultiplication(&hash, secretScalar(view(secret, secretLen)))
	encodeG1(&signature, view(out, g1Bytes))
	return statusOK
}

//export executor_bn254_hash_to_g1
func executor_bn254_hash_to_g1(message *C.uint8_t, messageLen C.size_t, dst *C.uint8_t, dstLen C.size_t, out *C.uint8_t) C.int {
	hash, err := bn254.HashToG1(view(message, messageLen), view(dst, dstLen))
	if err != nil {
		return statusHashFailed
	}
	encodeG1(&hash, view(out, g1Bytes))
	return statusOK
}

//export executor_bn254_solidity_hash_to_g1
func executor_bn254_solidity_hash_to_g1(digest *C.uint8_t, out *C.uint8_t) C.int {
	hash := solidityHash(view(digest, 32))
	encodeG1(&hash, view(out, g1Bytes))
	return statusOK
}

func main() {}

// executor_keccak256 writes Ethereum's Keccak-256 of data to out (32 bytes). It lives here
// because the second generation hashes six small messages per task, and one call into this
// library costs a fifth of pycryptodome's Python-level hasher object.
//
//export executor_keccak256
func executor_keccak256(data *C.uint8_t, dataLen C.size_t, out *C.uint8_t) {
	hasher := sha3.NewLegacyKeccak256()
	hasher.Write(view(data, dataLen))
	copy(view(out, 32), hasher.Sum(nil))
}
