/** Page objects of the app's screens: roles and labels only, as a user (or a screen reader) finds things. */
import type { Locator, Page } from 'playwright-core';

export class AppModel {
  constructor(readonly page: Page) {}

  async go(
    screen:
      | 'Queue'
      | 'Regions'
      | 'New upload'
      | 'Clouds'
      | 'Images'
      | 'Leftovers'
      | 'Staging and sync'
      | 'Catalog'
      | 'Settings and activity',
  ) {
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: screen }).click();
  }

  get alert(): Locator {
    return this.page.getByRole('alert');
  }
}

export class CloudsModel {
  constructor(readonly page: Page) {}

  async importFile(path: string): Promise<void> {
    await this.page.getByLabel('Cloud configuration file').setInputFiles(path);
  }
  useDraft(name: string): Locator {
    return this.page.getByRole('button', { name: `Use ${name}`, exact: true });
  }
  field(label: string): Locator {
    return this.page.getByRole('form', { name: 'Add a cloud' }).getByLabel(label, { exact: true });
  }
  get save(): Locator {
    return this.page.getByRole('button', { name: 'Save and test' });
  }
  get formAlert(): Locator {
    return this.page.getByRole('form', { name: 'Add a cloud' }).getByRole('alert');
  }
  report(cloud: string): Locator {
    return this.page.getByLabel(`Connection to ${cloud}`);
  }
  cloudRow(name: string): Locator {
    return this.page
      .getByRole('table', { name: 'Known clouds' })
      .getByRole('row')
      .filter({ has: this.page.getByText(name, { exact: true }) });
  }
}

export class UploadModelPage {
  constructor(readonly page: Page) {}

  async addFiles(paths: string[]): Promise<void> {
    await this.page.getByLabel('Image files').setInputFiles(paths);
  }
  fileName(path: string): Locator {
    return this.page.getByLabel(`Image name for ${path}`);
  }
  refusal(name: string): Locator {
    return this.page.getByRole('alert', { name: `${name} refused` });
  }
  template(label: string): Locator {
    return this.page.getByRole('group', { name: 'Metadata for every image' }).getByLabel(label);
  }
  get cloud(): Locator {
    return this.page.getByRole('form', { name: 'New upload' }).getByLabel('Cloud', { exact: true });
  }
  region(id: string): Locator {
    return this.page.getByRole('group', { name: 'Regions' }).getByLabel(id);
  }
  get submit(): Locator {
    return this.page.getByRole('button', { name: /^Queue \d+ images?$/ });
  }
}

export class QueueModelPage {
  constructor(readonly page: Page) {}

  get table(): Locator {
    return this.page.getByRole('table', { name: 'Upload queue' });
  }
  row(name: string): Locator {
    return this.table.getByRole('row').filter({ has: this.page.getByRole('button', { name, exact: true }) });
  }
  /** The state cell of a job's row ("Uploading", "Paused", "Done"...). */
  state(name: string): Locator {
    return this.row(name).getByRole('cell').nth(4);
  }
  action(action: 'Pause' | 'Resume' | 'Cancel' | 'Retry' | 'Remove', name: string): Locator {
    return this.row(name).getByRole('button', { name: `${action} ${name}`, exact: true });
  }
  progress(name: string): Locator {
    return this.row(name).getByRole('progressbar');
  }
}
