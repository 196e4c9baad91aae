"""Ciphers: seal a serialized payload under one key.

| name | class | authenticates | encrypts | overhead | needs |
|---|---|---|---|---|---|
| ``aes-siv`` | `AESSIVCipher` | yes | yes (deterministic) | 16 B | ``[crypto]`` |
| ``xchacha20`` | `XChaCha20Cipher` | yes | yes | 40 B | ``[nacl]`` |
| ``secretbox`` | `SecretBoxCipher` | yes | yes | 40 B | ``[nacl]`` |
| ``fernet`` | `FernetCipher` | yes | yes | 60-75 B + header | ``[crypto]`` |
| ``hmac`` | `HMACCipher` | yes | no (readable) | 16 B | nothing |
| ``plain`` | `InsecurePlainCipher` | **no** | **no** | 0 B | nothing |

Each class is a `CipherFactory`: called with a key ring secret, it derives its
own subkey with HKDF and returns a keyed cipher.
"""

from __future__ import annotations

from trackcodec.ciphers.aes_siv import AESSIVCipher
from trackcodec.ciphers.fernet import FernetCipher
from trackcodec.ciphers.hmac import HMACCipher
from trackcodec.ciphers.nacl import SecretBoxCipher, XChaCha20Cipher
from trackcodec.ciphers.plain import InsecurePlainCipher

__all__ = [
    "AESSIVCipher",
    "FernetCipher",
    "HMACCipher",
    "InsecurePlainCipher",
    "SecretBoxCipher",
    "XChaCha20Cipher",
]
