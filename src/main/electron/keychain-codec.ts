/**
 * The app's SecretCodec: Electron safeStorage, i.e. the OS keychain (Keychain on macOS, DPAPI on
 * Windows, the Secret Service or KWallet on Linux). Where Linux has no keyring, safeStorage falls
 * back to a fixed key ("basic_text"): secrets would be as good as plain text, so that is refused
 * unless the user opted in (the setting), and such secrets are marked plaintext-opt-in.
 */
import type { SafeStorage } from 'electron';
import { EngineError } from '../core/io/errors';
import type { SecretCodec } from '../core/clouds/secret-codec';

export function keychainCodec(
  safeStorage: SafeStorage,
  allowPlaintext: boolean,
  platform = process.platform,
): SecretCodec {
  if (!safeStorage.isEncryptionAvailable())
    throw new EngineError('secrets.unavailable', 'The OS keychain is not available, so secrets cannot be saved.', {
      hint: 'Log in to the desktop session (the keyring unlocks with it), or keep the cloud in clouds.yaml.',
    });
  const weak = platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text';
  if (weak && !allowPlaintext)
    throw new EngineError(
      'secrets.plaintext_refused',
      'No keyring was found (GNOME Keyring, KWallet): a saved password would be stored as good as plain text.',
      {
        hint: 'Install and unlock a keyring, or allow plain-text secrets in the settings if this machine is yours alone.',
      },
    );
  return {
    kind: weak ? 'plaintext-opt-in' : 'os-keychain',
    seal: (plain) => safeStorage.encryptString(plain),
    open: (sealed) => {
      try {
        return safeStorage.decryptString(sealed);
      } catch (e) {
        throw new EngineError('secrets.undecryptable', `A saved secret cannot be opened: ${(e as Error).message}`, {
          hint: 'The keychain changed (another user, a reset keyring): enter the password again.',
        });
      }
    },
  };
}
