/** Page object of the images page: roles and labels only, as a user (or a screen reader) finds things. */
import type { Locator, Page } from 'playwright-core';

export class ImagesPageModel {
  constructor(readonly page: Page) {}

  /** Go to the Images screen from the main navigation. */
  async open(): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Images' }).click();
  }

  get cloud(): Locator {
    return this.page.getByLabel('Cloud');
  }
  get region(): Locator {
    return this.page.getByLabel('Region');
  }
  get table(): Locator {
    return this.page.getByRole('table');
  }
  get alert(): Locator {
    return this.page.getByRole('alert');
  }
  get refresh(): Locator {
    return this.page.getByRole('button', { name: 'Refresh' });
  }

  row(name: string): Locator {
    return this.table.getByRole('row').filter({ has: this.page.getByRole('cell', { name, exact: true }) });
  }

  async chooseCloud(name: string): Promise<void> {
    await this.cloud.selectOption(name);
  }

  async chooseRegion(id: string): Promise<void> {
    await this.region.selectOption(id);
  }
}
